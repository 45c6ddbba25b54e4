import fc from 'fast-check';

// Strings that have hurt systems before: SQL, shell, format strings, control characters, RTL marks.
export const NASTY = [
  `'; DROP TABLE responses; --`,
  `" OR 1=1 --`,
  '$(rm -rf /)',
  '`reboot`',
  '%s%s%s%n',
  '{survey:String}',
  '\u0000\u0001\u001b[31m',
  '\u202e\u200b',
  '../../etc/passwd',
  '<script>alert(1)</script>',
];

export const nastyString = fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 80 }));
