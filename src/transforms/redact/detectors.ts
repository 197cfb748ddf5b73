// The built-in HIPAA detectors. Each finds spans of one kind in a string. Names, dates,
// accounts, licences and devices need a cue before them (a word such as "patient", "DOB",
// "acct"), because their shape alone is too common in logs; SSNs, phones, emails, IPs, URLs,
// MRNs, street addresses and ZIP codes are found by shape, then validated where a check
// exists (IPv6 through net.isIP).

import { isIP } from 'node:net';
import type { Kind } from './kinds.js';
import { cueDetector, type CueEntry } from './cued.js';
import {
  DATE,
  END,
  ID_TOKEN,
  NAME_RUN,
  NAME_RUN2,
  STATE,
  STREET_ADDRESS,
  STREET_SUFFIX,
} from './patterns.js';
import { hasAtLeast } from './scan.js';

/** A street suffix word after a blank: what every street address must contain. */
const STREET_SUFFIX_GATE = new RegExp(`[ \\t]${STREET_SUFFIX}(?![\\p{L}])`, 'u');
const FIVE_DIGITS = /\d{5}/;
const PHONE_TAIL = /\d[ \t.-]\d{4}/;

export interface Span {
  start: number;
  end: number;
  kind: Kind;
}

/** Facts about a string that let a detector skip it without running its pattern. */
export interface Gates {
  digit: boolean;
  at: boolean;
  colon: boolean;
  url: boolean;
  /** Always true: for user patterns, which may match anything. */
  any: boolean;
}

export interface Detector {
  kind: Kind;
  /** The detector runs only when this fact holds for the string. */
  gate: keyof Gates;
  /**
   * A cheaper necessary condition, tried after the gate: a character or literal the pattern
   * cannot match without (a `-` for an SSN, "old" for an age).
   */
  pre?: (text: string) => boolean;
  scan(text: string, out: Span[]): void;
}

/**
 * A detector from a global regex. When the pattern has a group named `v`, only that group is
 * redacted; it must end the pattern, so its start is the match end minus its length.
 */
export function regexDetector(
  kind: Kind,
  gate: keyof Gates | [keyof Gates, (text: string) => boolean],
  source: string,
  validate?: (value: string, text: string, start: number, end: number) => boolean,
  flags?: string,
): Detector {
  // Built-in patterns without \p classes run without the u flag, which irregexp matches
  // faster (no surrogate-pair handling); user patterns keep the flags they asked for.
  const re = new RegExp(source, flags ?? (source.includes('\\p') ? 'gu' : 'g'));
  return {
    kind,
    gate: typeof gate === 'string' ? gate : gate[0],
    pre: typeof gate === 'string' ? undefined : gate[1],
    scan(text, out) {
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        const value = m.groups?.v ?? m[0];
        const end = m.index + m[0].length;
        const start = end - value.length;
        if (value.length > 0 && (!validate || validate(value, text, start, end))) {
          out.push({ start, end, kind });
        }
        if (m[0].length === 0) re.lastIndex++;
      }
    },
  };
}

const NAME_CUES = [
  'patient name',
  'patient',
  'pt',
  'name',
  'first name',
  'last name',
  'full name',
  'given name',
  'family name',
  'middle name',
  'maiden name',
  'surname',
  'doctor',
  'nurse',
  'physician',
  'provider',
  'attending',
  'surgeon',
  'clinician',
  'therapist',
  'guardian',
  'mother',
  'father',
  'spouse',
  'parent',
  'caregiver',
  'next of kin',
  'emergency contact',
  'contact',
  'subscriber',
  'insured',
  'resident',
  'seen by',
  'signed by',
  'ordered by',
  'referred by',
  'referred to',
  'verified by',
  'reviewed by',
  'admitted by',
  'discharged by',
  'prescribed by',
];

const DATE_CUES = [
  'dob',
  'd.o.b',
  'date of birth',
  'birth date',
  'birthdate',
  'birthday',
  'born on',
  'born',
  'admitted on',
  'admitted',
  'admit date',
  'admission date',
  'admission',
  'discharged on',
  'discharged',
  'discharge date',
  'discharge',
  'deceased',
  'date of death',
  'death date',
  'died on',
  'died',
  'date of service',
  'dos',
  'visit date',
  'visit on',
  'visit',
  'appointment date',
  'appointment on',
  'appointment',
  'appt',
  'surgery date',
  'surgery on',
  'procedure date',
  'seen on',
  'scheduled for',
  'scheduled on',
];

const ACCOUNT_CUES = [
  'account number',
  'account no',
  'account id',
  'account',
  'acct no',
  'acct',
  'member id',
  'member no',
  'member number',
  'member',
  'policy number',
  'policy no',
  'policy',
  'insurance id',
  'insurance no',
  'insurance',
  'health plan id',
  'plan id',
  'group number',
  'group no',
  'subscriber id',
  'beneficiary id',
  'beneficiary',
  'claim number',
  'claim no',
  'claim id',
  'claim',
  'medicare id',
  'medicare',
  'medicaid id',
  'medicaid',
  'mbi',
  'hicn',
  'card number',
  'iban',
];

const LICENSE_CUES = [
  'license number',
  'license no',
  'license',
  'licence number',
  'licence no',
  'licence',
  "driver's license",
  'drivers license',
  'dl',
  'npi',
  'dea',
  'certificate number',
  'certificate no',
  'cert no',
];

const DEVICE_CUES = [
  'device id',
  'device serial',
  'device',
  'serial number',
  'serial no',
  'serial',
  's/n',
  'sn',
  'imei',
  'udi',
  'udid',
  'mac address',
  'mac',
  'implant id',
  'pacemaker id',
  'pump id',
  'monitor id',
];

const VEHICLE_CUES = ['vin', 'license plate', 'plate number', 'plate', 'vehicle id'];

const TITLES = ['Dr', 'Mr', 'Mrs', 'Ms', 'Mx', 'Miss', 'Prof', 'Rev', 'DR', 'MR', 'MRS', 'MS'];

/**
 * A validator that rejects a match glued to characters that would extend it (a digit before
 * an SSN, say). Checking in JS after the match lets the pattern start with a plain class,
 * which the regex engine scans far faster than a leading lookbehind.
 */
function bounded(before: RegExp, after: RegExp = before) {
  return (_v: string, text: string, start: number, end: number): boolean =>
    !(start > 0 && before.test(text[start - 1] as string)) &&
    !(end < text.length && after.test(text[end] as string));
}

// Validators run on every candidate match: built once, not per call.
const IPV4_BOUNDS = bounded(/[\d.]/, /\d/);
const INTL_BOUNDS = bounded(/[\p{L}\p{N}+]/u, /[\d-]/);

function isDigitAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c >= 48 && c <= 57;
}

function digitCount(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) if (isDigitAt(value, i)) n++;
  return n;
}

/** Social Security number with the SSA's never-issued ranges left out where dashes are absent. */
function validSsnDigits(value: string): boolean {
  const d = value.replace(/\D/g, '');
  if (d.length !== 9) return false;
  return !(
    d.startsWith('000') ||
    d.startsWith('666') ||
    d.slice(3, 5) === '00' ||
    d.endsWith('0000')
  );
}

/** Finds emails around each `@`: linear, unlike a regex that restarts at every local-part char. */
const LOCAL_RE = /[\p{L}\p{N}._%+'-]/u;
const DOMAIN_RE = /[\p{L}\p{N}.-]/u;
const isAlnum = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
/** ASCII decided by code; only non-ASCII characters go to the Unicode class. */
const isLocal = (t: string, i: number) => {
  const c = t.charCodeAt(i);
  if (c < 128)
    return isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 39 || c === 45;
  return LOCAL_RE.test(t[i] as string);
};
const isDomain = (t: string, i: number) => {
  const c = t.charCodeAt(i);
  if (c < 128) return isAlnum(c) || c === 46 || c === 45;
  return DOMAIN_RE.test(t[i] as string);
};
const TLD = /\.\p{L}{2,}$/u;

export const emailDetector: Detector = {
  kind: 'email',
  gate: 'at',
  pre: undefined,
  scan(text, out) {
    let at = text.indexOf('@');
    while (at >= 0) {
      let s = at;
      while (s > 0 && isLocal(text, s - 1)) s--;
      let e = at + 1;
      while (e < text.length && isDomain(text, e)) e++;
      while (e > at + 1 && (text[e - 1] === '.' || text[e - 1] === '-')) e--;
      if (s < at && TLD.test(text.slice(at + 1, e))) {
        out.push({ start: s, end: e, kind: 'email' });
      }
      at = text.indexOf('@', Math.max(e, at + 1));
    }
  },
};

const SCHEME = /[A-Za-z0-9+.-]/;
const URL_CHAR = /[^\s"'<>`{}|\\^]/;
const URL_TRAILER = /[.,;:!?)\]}'"]/;

/** Whole URLs (Safe Harbor forbids any URL of the person), found around `://` and `www.`. */
export const urlDetector: Detector = {
  kind: 'url',
  gate: 'url',
  pre: undefined,
  scan(text, out) {
    const push = (s: number, from: number) => {
      let e = from;
      while (e < text.length && URL_CHAR.test(text[e] as string)) e++;
      while (e > from && URL_TRAILER.test(text[e - 1] as string)) e--;
      if (e > from) out.push({ start: s, end: e, kind: 'url' });
      return e;
    };
    let i = text.indexOf('://');
    while (i >= 0) {
      let s = i;
      while (s > 0 && SCHEME.test(text[s - 1] as string)) s--;
      const e = s < i && /[A-Za-z]/.test(text[s] as string) ? push(s, i + 3) : i + 3;
      i = text.indexOf('://', Math.max(e, i + 3));
    }
    let w = text.indexOf('www.');
    while (w >= 0) {
      const before = w > 0 ? (text[w - 1] as string) : ' ';
      const e = /[\p{L}\p{N}/.]/u.test(before) ? w + 4 : push(w, w + 4);
      w = text.indexOf('www.', Math.max(e, w + 4));
    }
  },
};

/** `Chrome/124.0.0.0`: a version after a product name and a slash, not an address. */
function isProductVersion(text: string, start: number): boolean {
  return start >= 2 && text[start - 1] === '/' && /[A-Za-z]/.test(text[start - 2] as string);
}

const IPV4_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV6_CANDIDATE =
  '(?<![\\p{L}\\p{N}_:.])(?:[0-9A-Fa-f]{1,4}:|:(?=:))(?:[0-9A-Fa-f]{0,4}:){1,7}' +
  '(?:(?:\\d{1,3}\\.){3}\\d{1,3}|[0-9A-Fa-f]{1,4})?(?:%[\\w.]+)?(?![\\p{L}\\p{N}_])';

/** Detectors found by shape, each one pass over the string. */
function shapeDetectors(): Detector[] {
  return [
    urlDetector,
    emailDetector,
    regexDetector(
      'ssn',
      ['digit', (t) => t.length >= 11 && t.includes('-')],
      '\\d{3}-\\d{2}-\\d{4}',
      bounded(/[\d-]/),
    ),
    regexDetector(
      'phone',
      // The last two groups of every North American number: a blank, dot or dash, 4 digits.
      ['digit', (t) => t.length >= 12 && PHONE_TAIL.test(t)],
      '(?:\\+?1[ \\t.-]?)?(?:\\(\\d{3}\\)[ \\t]?|\\d{3}[ \\t.-]?)\\d{3}[ \\t.-]\\d{4}',
      bounded(/[\d+.-]/, /[\d-]/),
    ),
    regexDetector(
      'phone',
      ['digit', (t) => t.length >= 9 && t.includes('+')],
      '\\+[2-9]\\d{0,2}(?:[ \\t.-]?\\(?\\d{1,5}\\)?){2,5}',
      (v, text, s, e) => INTL_BOUNDS(v, text, s, e) && digitCount(v) >= 8,
    ),
    regexDetector(
      'ip',
      ['digit', (t) => t.length >= 7 && hasAtLeast(t, '.', 3)],
      `(?:${IPV4_OCTET}\\.){3}${IPV4_OCTET}`,
      (v, text, s, e) =>
        IPV4_BOUNDS(v, text, s, e) &&
        !(text[e] === '.' && isDigitAt(text, e + 1)) &&
        !isProductVersion(text, s),
    ),
    regexDetector(
      'ip',
      ['colon', (t) => t.includes('::') || hasAtLeast(t, ':', 6)],
      IPV6_CANDIDATE,
      (v) => isIP(v.replace(/%.*$/, '')) === 6,
    ),
    regexDetector(
      'device',
      ['any', (t) => t.length >= 17 && (hasAtLeast(t, ':', 5) || hasAtLeast(t, '-', 5))],
      '[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\\1[0-9A-Fa-f]{2}){4}',
      bounded(/[\p{L}\p{N}_:-]/u),
    ),
    regexDetector(
      'address',
      ['digit', (t) => t.length >= 6 && STREET_SUFFIX_GATE.test(t)],
      STREET_ADDRESS,
      bounded(/[\p{L}\p{N}.-]/u, /(?!)/),
    ),
    regexDetector(
      'zip',
      ['digit', (t) => t.length >= 8 && FIVE_DIGITS.test(t)],
      `${STATE}[ \\t]+(?<v>\\d{5}(?:-\\d{4})?)(?!\\d)`,
      (v, text, s) => {
        const stateAt = s - 1 - (/[ \t]+$/.exec(text.slice(0, s))?.[0].length ?? 0) - 1;
        return !/\p{L}/u.test(text[stateAt - 1] ?? ' ');
      },
    ),
  ];
}

/** Detectors anchored on cue words, all found in one pass. */
function cueEntries(): CueEntry[] {
  const idSep = `(?:[ \\t]*[:=#"'-]{1,3}[ \\t]*"?|[ \\t]+)`;
  return [
    {
      kind: 'mrn',
      cues: [
        'mrn',
        'medical record number',
        'medical record no',
        'medical record',
        'mr#',
        'chart number',
        'chart no',
        'patient id',
        'patient no',
        'patient number',
      ],
      separator: `(?:${idSep})?`,
      value: '[A-Za-z]{0,3}-?\\d{4,12}(?![\\p{L}\\p{N}_])',
      includeCue: true,
    },
    {
      kind: 'ssn',
      cues: ['ssn', 'social security number', 'social security', 'ss#'],
      value: '\\d{3}[ .-]?\\d{2}[ .-]?\\d{4}(?!\\d)',
      validate: validSsnDigits,
    },
    {
      kind: 'phone',
      cues: ['phone', 'tel', 'telephone', 'fax', 'mobile', 'cell', 'ph', 'contact number', 'pager'],
      value: '\\+?\\(?\\d[\\d \\t().-]{5,18}\\d',
      validate: (v) => digitCount(v) >= 7,
    },
    {
      kind: 'address',
      cues: ['po box', 'p.o. box', 'p o box'],
      value: '\\d{1,8}',
      includeCue: true,
    },
    {
      kind: 'zip',
      cues: ['zip', 'zip code', 'zipcode', 'postal code', 'postcode'],
      value: '\\d{5}(?:-\\d{4})?(?!\\d)',
    },
    { kind: 'date', cues: DATE_CUES, value: DATE },
    { kind: 'age', cues: ['age', 'aged'], value: '(?:9\\d|1[0-4]\\d)(?!\\d)' },
    { kind: 'account', cues: ACCOUNT_CUES, value: ID_TOKEN },
    { kind: 'license', cues: LICENSE_CUES, value: ID_TOKEN },
    { kind: 'device', cues: DEVICE_CUES, value: ID_TOKEN },
    { kind: 'vehicle', cues: VEHICLE_CUES, value: '[A-HJ-NPR-Z0-9-]{5,17}' },
    { kind: 'name', cues: NAME_CUES, value: NAME_RUN },
    // "claim submitted for Noor Thomas SSN …": weak cues need two capitalised words.
    { kind: 'name', cues: ['for', 'with', 'from', 'to'], value: NAME_RUN2 },
    // Query strings and forms: last=Martin&first=Ann.
    {
      kind: 'name',
      cues: ['last', 'first', 'fname', 'lname', 'given', 'family', 'middle'],
      separator: `[ \\t]*[=:][ \\t]*"?`,
      value: NAME_RUN,
    },
    // "patient name mismatch (Miller)", "name changed to Smith": a name a few words on.
    {
      kind: 'name',
      cues: ['name', 'patient name', 'last name', 'surname', 'family name'],
      separator: `(?:[ \\t]+[a-z]{2,12}){1,2}[ \\t]*[(:="'][ \\t]*|(?:[ \\t]+[a-z]{2,12}){1,2}[ \\t]+`,
      value: NAME_RUN,
    },
    { kind: 'name', cues: TITLES, value: NAME_RUN, separator: '\\.?[ \\t]+', exactCase: true },
  ];
}

/** The HIPAA preset without the kinds in `disabled`. */
export function hipaaDetectors(disabled: ReadonlySet<string> = new Set()): Detector[] {
  const shapes = shapeDetectors().filter((d) => !disabled.has(d.kind));
  const entries = cueEntries().filter((e) => !disabled.has(e.kind));
  const ages = disabled.has('age')
    ? []
    : [
        regexDetector(
          'age',
          ['digit', (t) => t.includes('old') || t.includes('yo') || t.includes('y/o')],
          `(?:9\\d|1[0-4]\\d)[ \\t-]?(?:years?[ \\t-]old|y/?o|yrs?[ \\t-]old)${END}`,
          bounded(/\d/, /(?!)/),
        ),
      ];
  return [...shapes, ...ages, cueDetector(entries)];
}
