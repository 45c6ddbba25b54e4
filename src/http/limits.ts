/** At most this many responses in one POST /v1/responses. */
export const MAX_BATCH = 1000;
