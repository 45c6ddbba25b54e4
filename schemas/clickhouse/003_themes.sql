-- Comment themes, tagged by the stream processor (src/themes): the comment's language, the theme
-- ids of the taxonomy it mentions, and the taxonomy version that tagged it (`nps retag` brings
-- older rows up to the current version). Rows stored before this migration read as untagged.
ALTER TABLE {database:Identifier}.responses
    ADD COLUMN IF NOT EXISTS language LowCardinality(Nullable(String))
        COMMENT 'Language of the comment: da, sv or en; null when unknown or no comment' AFTER locale;

ALTER TABLE {database:Identifier}.responses
    ADD COLUMN IF NOT EXISTS themes Array(LowCardinality(String))
        COMMENT 'Theme ids of the taxonomy the comment mentions (delivery, price, ...)' AFTER language;

ALTER TABLE {database:Identifier}.responses
    ADD COLUMN IF NOT EXISTS taxonomy_version LowCardinality(String) DEFAULT ''
        COMMENT 'Version of the taxonomy that tagged the row; empty when never tagged' AFTER themes;
