// Made-up identities: client addresses, and synthetic patients for the healthcare scenario
// (names, medical record numbers, birth dates, SSNs, phones, emails, street addresses).
// None of these belong to anyone; they are drawn at random from generic word lists.

import type { Prng } from './prng.js';
import { AREA_CODES, CITIES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, STREETS } from './vocab.js';

/** A public-looking IPv4 address (skips 0/8, 10/8, 127/8, 169.254/16, 172.16/12, 192.168/16). */
export function ipv4(rng: Prng): string {
  for (;;) {
    const a = rng.between(1, 223);
    const b = rng.below(256);
    if (a === 10 || a === 127 || (a === 169 && b === 254)) continue;
    if ((a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168)) continue;
    return `${a}.${b}.${rng.below(256)}.${rng.between(1, 254)}`;
  }
}

/** A global unicast IPv6 address in the usual compressed form (2001:db8:: style). */
export function ipv6(rng: Prng): string {
  const prefixes = ['2001:db8', '2a02:6b8', '2600:1f18', '2a01:4f8', '2406:da00'];
  const head = rng.pick(prefixes);
  const groups: string[] = [];
  for (let i = 0; i < 2; i++) groups.push(rng.below(0x10000).toString(16));
  const tail = rng.below(0x10000).toString(16) + ':' + rng.below(0x10000).toString(16);
  // Half the addresses have a run of zero groups, written as '::'.
  return rng.chance(0.5)
    ? `${head}:${groups[0]}::${tail}`
    : `${head}:${groups.join(':')}:0:1:${tail}`;
}

/** A client address: IPv6 for about one request in six, as on a dual-stack site. */
export function clientIp(rng: Prng): string {
  return rng.chance(0.16) ? ipv6(rng) : ipv4(rng);
}

export interface Patient {
  firstName: string;
  lastName: string;
  name: string;
  mrn: string;
  dob: string;
  ssn: string;
  phone: string;
  email: string;
  address: string;
}

export function patient(rng: Prng): Patient {
  const firstName = rng.pick(FIRST_NAMES);
  const lastName = rng.pick(LAST_NAMES);
  return {
    firstName,
    lastName,
    name: `${firstName} ${lastName}`,
    mrn: `MRN-${rng.digits(8)}`,
    dob: dateOfBirth(rng),
    ssn: ssn(rng),
    phone: phone(rng),
    email: email(rng, firstName, lastName),
    address: streetAddress(rng),
  };
}

function dateOfBirth(rng: Prng): string {
  const y = rng.between(1931, 2022);
  const m = rng.between(1, 12);
  const d = rng.between(1, 28);
  const mm = String(m).padStart(2, '0');
  const dd = String(d).padStart(2, '0');
  // Clinics write dates both ways; a redactor has to find both.
  return rng.chance(0.7) ? `${y}-${mm}-${dd}` : `${mm}/${dd}/${y}`;
}

function ssn(rng: Prng): string {
  let area = rng.between(1, 899);
  if (area === 666) area = 667;
  const group = rng.between(1, 99);
  const serial = rng.between(1, 9999);
  return `${String(area).padStart(3, '0')}-${String(group).padStart(2, '0')}-${String(serial).padStart(4, '0')}`;
}

function phone(rng: Prng): string {
  const area = rng.pick(AREA_CODES);
  const line = `555-${String(rng.between(100, 199)).padStart(4, '0')}`;
  const style = rng.below(3);
  if (style === 0) return `(${area}) ${line}`;
  if (style === 1) return `${area}-${line}`;
  return `+1 ${area} ${line.replace('-', ' ')}`;
}

function email(rng: Prng, first: string, last: string): string {
  const ascii = (s: string) =>
    s
      .normalize('NFD')
      .replace(/[^A-Za-z]/g, '')
      .toLowerCase();
  const local = rng.chance(0.6)
    ? `${ascii(first)}.${ascii(last)}`
    : `${ascii(first).slice(0, 1)}${ascii(last)}${rng.between(1, 99)}`;
  return `${local}@${rng.pick(EMAIL_DOMAINS)}`;
}

function streetAddress(rng: Prng): string {
  const [city, state, zip3] = rng.pick(CITIES);
  const unit = rng.chance(0.2) ? ` Apt ${rng.between(1, 40)}` : '';
  return `${rng.between(10, 9899)} ${rng.pick(STREETS)}${unit}, ${city}, ${state} ${zip3}${rng.digits(2)}`;
}
