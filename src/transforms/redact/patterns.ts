// Building blocks for the HIPAA detectors: cue words written case-flexibly (so that the
// Unicode letter classes around them can stay case-sensitive), name tokens, dates.
// Every repetition is bounded or separated by a required delimiter, so no pattern can
// backtrack catastrophically on long input.

/** `patient` → `[pP][aA]...`: case-insensitive for this word only. */
export function caseless(word: string): string {
  return word.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`).replace(/ /g, '[ _.-]?');
}

/** An alternation of cue words, longest first so `patient name` wins over `patient`. */
export function cues(words: readonly string[]): string {
  const sorted = [...words].sort((a, b) => b.length - a.length);
  return `(?:${sorted.map(caseless).join('|')})`;
}

/** Not preceded by a letter, digit or underscore: a word start that works for Unicode text. */
export const START = '(?<![\\p{L}\\p{N}_])';
/** Not followed by a letter, digit or underscore. */
export const END = '(?![\\p{L}\\p{N}_])';

/**
 * What may sit between a cue and its value: spaces, `:`, `=`, `#`, quotes, brackets, and the
 * JSON or logfmt punctuation around a key (`"patient": "`, `patient_name="`).
 */
export const SEP = `(?:\\.?[\\s:=#"'\\[\\](){}>|,]{1,6}|\\.(?=\\s))`;

/** A letter inside a name word, raw or percent-encoded as in a query string (Fern%C3%A1ndez). */
const NAME_CHAR = "(?:[\\p{L}\\p{M}'’]|%[0-9A-Fa-f]{2})";
/** A capital, or a percent-encoded two-byte UTF-8 letter (%C3%98 for Ø) whose case is unknown. */
const CAPITAL = '(?:\\p{Lu}|%[CDcd][0-9A-Fa-f]%[89ABab][0-9A-Fa-f])';
/** Identifier cues written in capitals, which a name run must not swallow (Kenji Taylor DOB). */
const NOT_CUE = '(?!(?:DOB|SSN|MRN|DOS|NPI|DEA)(?![\\p{L}\\p{N}]))';
/** One capitalised name word: José, O'Brien, D'Andre, Ana-Lucía, Nakamura-Reyes, Q. */
const TOKEN = `${CAPITAL}(?:${NAME_CHAR}*(?:-\\p{L}${NAME_CHAR}*){0,2}|\\.)`;
/** Lower-case particles inside surnames (Van der Berg, de la Cruz). */
const PARTICLE = '(?:van|von|der|den|de|del|della|di|da|la|le|du|dos|das|bin|ibn|al|el|ter|ten)';
const GAP = '(?:[ \\t]+|\\+|%20)';

/**
 * A run of one to four capitalised words, or `Last, First [Middle]`; particles may sit
 * between words. Bounded repetition keeps the match linear.
 */
export const NAME_RUN =
  `${TOKEN}(?:,[ \\t]*${NOT_CUE}${TOKEN}(?:${GAP}${NOT_CUE}${TOKEN})?` +
  `|(?:${GAP}(?:${PARTICLE}${GAP}){0,2}${NOT_CUE}${TOKEN}){0,3})`;

/**
 * Two to four capitalised words: what follows a weak cue such as "for" or "with", where one
 * capitalised word is too often not a person ("for Urinalysis") but two usually are.
 */
export const NAME_RUN2 = `${TOKEN}(?:${GAP}(?:${PARTICLE}${GAP}){0,2}${NOT_CUE}${TOKEN}){1,3}`;

const MONTH =
  '(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|' +
  'Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)';

/** A calendar date: ISO, US or European numeric, or with a month name. */
export const DATE =
  '(?:\\d{4}-\\d{1,2}-\\d{1,2}(?:[T ]\\d{2}:\\d{2}(?::\\d{2})?)?' +
  '|\\d{4}/\\d{1,2}/\\d{1,2}' +
  '|\\d{1,2}(?:[/.-]|%2[Ff])\\d{1,2}(?:[/.-]|%2[Ff])(?:\\d{4}|\\d{2})' +
  `|${MONTH}\\.?[ \\t]+\\d{1,2}(?:st|nd|rd|th)?,?[ \\t]+\\d{4}` +
  `|\\d{1,2}(?:st|nd|rd|th)?[ \\t]+${MONTH}\\.?,?[ \\t]+\\d{4}` +
  '|\\d{8})';

/** US state and territory codes, for `City, ST 12345`. */
export const STATE =
  '(?:A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]|PA|RI|' +
  'S[CD]|T[NX]|UT|V[TA]|W[AVIY]|PR|GU|VI|AS|MP)';

export const STREET_SUFFIX =
  '(?:Street|St|Avenue|Ave|Av|Lane|Ln|Road|Rd|Boulevard|Blvd|Drive|Dr|Court|Ct|Place|Pl|' +
  'Way|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Loop|Row|' +
  'Alley|Aly|Path|Pike|Plaza|Plz|Crescent|Cres|Close|Walk|Run|Crossing|Xing)\\.?';
const STREET_WORD = "(?:\\p{Lu}[\\p{L}\\p{M}'’-]*|\\d{1,4}(?:st|nd|rd|th))";
const UNIT =
  '(?:,?[ \\t]+(?:Apt|Apartment|Suite|Ste|Unit|Room|Rm|Bldg|Building|Floor|Fl|#)\\.?[ \\t]*#?[A-Za-z0-9-]{1,8})';
const CITY_STATE_ZIP =
  `(?:,[ \\t]*\\p{Lu}[\\p{L}\\p{M}'’.-]*(?:[ \\t]+\\p{Lu}[\\p{L}\\p{M}'’.-]*){0,3}` +
  `(?:,?[ \\t]+${STATE}(?:[ \\t]+\\d{5}(?:-\\d{4})?)?)?)?`;

/** `1234 Oak Street Apt 12, Springfield, IL 62701`, `77 2nd Avenue`. */
export const STREET_ADDRESS =
  `\\d{1,6}[ \\t]+(?:[NSEW]\\.?[ \\t]+)?(?:${STREET_WORD}[ \\t]+){1,4}` +
  `${STREET_SUFFIX}(?![\\p{L}])${UNIT}?${CITY_STATE_ZIP}`;

/** A token that carries an identifier: letters, digits, dashes, with at least one digit. */
export const ID_TOKEN = '(?=[A-Za-z0-9./:_-]*\\d)[A-Za-z0-9][A-Za-z0-9./:_-]{2,39}(?<![.:_-])';
