// The kinds of identifier the redactor knows: the HIPAA Safe Harbor list (45 CFR
// 164.514(b)(2)) as it shows up in logs. A kind names the mask ([REDACTED:KIND]), the
// pseudonym prefix and the metric label, so one list keeps the three in step.

export const PHI_KINDS = [
  'name',
  'mrn',
  'ssn',
  'date',
  'age',
  'phone',
  'email',
  'address',
  'zip',
  'ip',
  'url',
  'account',
  'license',
  'device',
  'vehicle',
] as const;
export type BuiltinKind = (typeof PHI_KINDS)[number];

/** A kind from the built-in list or from a rules file (lower case, digits, underscores). */
export type Kind = string;

export const KIND_NAME = /^[a-z][a-z0-9_]{0,31}$/;

export function isBuiltinKind(kind: string): kind is BuiltinKind {
  return (PHI_KINDS as readonly string[]).includes(kind);
}
