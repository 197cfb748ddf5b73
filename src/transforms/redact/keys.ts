// Field-name rules: a field whose key says what it holds (dob, patient_name, client_ip) is
// replaced whole, whatever its value looks like. Keys are compared after lower-casing and
// dropping everything but letters and digits, so patientName, patient_name and
// "Patient Name" are one key.

import type { Kind } from './kinds.js';

const BUILTIN: Record<string, readonly string[]> = {
  name: [
    'name',
    'fullname',
    'firstname',
    'lastname',
    'givenname',
    'familyname',
    'middlename',
    'surname',
    'maidenname',
    'patient',
    'patientname',
    'provider',
    'providername',
    'physician',
    'doctor',
    'nurse',
    'guardian',
    'emergencycontact',
    'contactname',
    'subscriber',
    'insuredname',
    'mother',
    'father',
    'spouse',
    'nextofkin',
    'attending',
    'remoteuser',
    'username',
  ],
  mrn: ['mrn', 'medicalrecordnumber', 'medicalrecord', 'patientid', 'chartnumber'],
  ssn: ['ssn', 'socialsecuritynumber', 'socialsecurity'],
  date: [
    'dob',
    'dateofbirth',
    'birthdate',
    'birthday',
    'admitdate',
    'admissiondate',
    'dischargedate',
    'deathdate',
    'dateofdeath',
    'dateofservice',
    'visitdate',
    'appointmentdate',
    'surgerydate',
  ],
  phone: [
    'phone',
    'phonenumber',
    'tel',
    'telephone',
    'fax',
    'faxnumber',
    'mobile',
    'cell',
    'cellphone',
    'homephone',
    'workphone',
  ],
  email: ['email', 'emailaddress', 'mail'],
  address: [
    'address',
    'streetaddress',
    'street',
    'addr',
    'address1',
    'address2',
    'homeaddress',
    'city',
    'county',
  ],
  zip: ['zip', 'zipcode', 'postalcode', 'postcode'],
  ip: [
    'ip',
    'ipaddress',
    'clientip',
    'remoteip',
    'remoteaddr',
    'remoteaddress',
    'sourceip',
    'srcip',
    'xforwardedfor',
    'xrealip',
  ],
  url: ['url', 'uri', 'referrer', 'referer', 'link', 'website'],
  account: [
    'account',
    'accountnumber',
    'accountid',
    'acct',
    'memberid',
    'policynumber',
    'insuranceid',
    'planid',
    'subscriberid',
    'groupnumber',
    'claimid',
    'beneficiaryid',
  ],
  license: ['license', 'licensenumber', 'licence', 'licencenumber', 'dl', 'npi', 'dea'],
  device: ['deviceid', 'serial', 'serialnumber', 'imei', 'udi', 'macaddress', 'mac'],
  vehicle: ['vin', 'plate', 'licenseplate'],
};

export function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export interface KeyRules {
  /** The kind a field's value is, by its key; undefined when the key says nothing. */
  kindOf(key: string): Kind | undefined;
  /** Keys whose values are never scanned (from skip_keys). */
  skips(key: string): boolean;
}

export function createKeyRules(options: {
  builtin: boolean;
  disabled: ReadonlySet<string>;
  extra: ReadonlyArray<{ key: string; kind: Kind }>;
  skip: readonly string[];
}): KeyRules {
  const map = new Map<string, Kind>();
  if (options.builtin) {
    for (const [kind, keys] of Object.entries(BUILTIN)) {
      if (options.disabled.has(kind)) continue;
      for (const k of keys) map.set(k, kind);
    }
  }
  for (const { key, kind } of options.extra) map.set(normaliseKey(key), kind);
  const skip = new Set(options.skip.map(normaliseKey));
  for (const k of skip) map.delete(k);
  // Memoised: a stream repeats the same few keys, and normalising is the costly part.
  const seen = new Map<string, Kind | null>();
  return {
    kindOf(key) {
      let kind = seen.get(key);
      if (kind === undefined) {
        kind = map.get(normaliseKey(key)) ?? null;
        if (seen.size < 10_000) seen.set(key, kind);
      }
      return kind ?? undefined;
    },
    skips: (key) => skip.size > 0 && skip.has(normaliseKey(key)),
  };
}
