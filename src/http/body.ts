import express from 'express';

/**
 * Body parsers that refuse bytes that are not UTF-8 instead of quietly turning them into U+FFFD,
 * which would store a comment the respondent never wrote. A refusal surfaces as body-parser's
 * `entity.verify.failed`, answered 400 by the error handler.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

function assertUtf8(bytes: Uint8Array): void {
  try {
    utf8.decode(bytes);
  } catch {
    throw new Error('the body is not valid UTF-8');
  }
}

/** The bytes a urlencoded body stands for, %XX escapes decoded. */
function percentDecoded(raw: Buffer): Uint8Array {
  const out = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i] ?? 0;
    const hex = byte === 0x25 ? raw.subarray(i + 1, i + 3).toString('latin1') : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else {
      out[n++] = byte;
    }
  }
  return out.subarray(0, n);
}

export function jsonBody(
  limit: string,
  options: { anyType?: boolean } = {},
): ReturnType<typeof express.json> {
  return express.json({
    limit,
    strict: false,
    ...(options.anyType && { type: () => true }),
    verify: (_req, _res, buf) => {
      assertUtf8(buf);
    },
  });
}

export function formBody(limit: string): ReturnType<typeof express.urlencoded> {
  return express.urlencoded({
    extended: false,
    limit,
    type: 'application/x-www-form-urlencoded',
    verify: (_req, _res, buf) => {
      // Percent-escapes can hide bytes too: check what they decode to.
      assertUtf8(percentDecoded(buf));
    },
  });
}
