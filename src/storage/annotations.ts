import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './clickhouse.js';

export interface Annotation {
  readonly annotationId: string;
  readonly surveyId: string;
  /** Epoch ms. */
  readonly at: number;
  readonly label: string;
  readonly createdBy: string;
  /** Epoch ms. */
  readonly createdAt: number;
}

type Row = Record<string, string | number>;

function fromRow(r: Row): Annotation {
  return {
    annotationId: String(r.annotation_id),
    surveyId: String(r.survey_id),
    at: Number(r.at_ms),
    label: String(r.label),
    createdBy: String(r.created_by),
    createdAt: Number(r.created_at),
  };
}

const SELECT = `SELECT annotation_id, survey_id, toUnixTimestamp64Milli(at) AS at_ms, label, created_by,
                       toUnixTimestamp64Milli(created_at) AS created_at
                FROM {database:Identifier}.annotations FINAL WHERE deleted = 0`;

/** Annotations in ClickHouse; the newest version of an id wins, deletions included. */
export class AnnotationStore {
  readonly #client: ClickHouseClient;
  readonly #database: string;

  constructor(client: ClickHouseClient, database: string) {
    this.#client = client;
    this.#database = database;
  }

  async write(annotation: Annotation, deleted = false, version = Date.now()): Promise<void> {
    await this.#client.insert({
      table: `${this.#database}.annotations`,
      format: 'JSONEachRow',
      values: [
        {
          annotation_id: annotation.annotationId,
          survey_id: annotation.surveyId,
          at: new Date(annotation.at).toISOString(),
          label: annotation.label,
          created_by: annotation.createdBy,
          created_at: new Date(annotation.createdAt).toISOString(),
          deleted: deleted ? 1 : 0,
          version,
        },
      ],
    });
  }

  async get(annotationId: string): Promise<Annotation | null> {
    const rows = await this.#rows(`${SELECT} AND annotation_id = {id:String} LIMIT 1`, {
      id: annotationId,
    });
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /** A survey's annotations in [from, to), oldest first. */
  async list(surveyId: string, from: number, to: number): Promise<Annotation[]> {
    const rows = await this.#rows(
      `${SELECT} AND survey_id = {surveyId:String}
         AND at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
         AND at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
       ORDER BY at, annotation_id`,
      { surveyId, from, to },
    );
    return rows.map(fromRow);
  }

  #rows(query: string, params: object): Promise<Row[]> {
    return queryRows<Row>(this.#client, this.#database, query, params);
  }
}
