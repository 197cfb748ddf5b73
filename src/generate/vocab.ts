// Word lists the generator draws from: request paths, user agents, referrers, people and
// places. All made up or generic; domains are under example.com/.net/.org.

import { flatString } from './flat-string.js';
import { Prng } from './prng.js';
import { Weighted, zipf } from './weighted.js';

export const SITE = 'https://shop.example.com';

const PRODUCTS = [
  'trail-runner-2',
  'merino-crew-sock',
  'canvas-tote',
  'espresso-grinder',
  'steel-bottle-750',
  'wool-beanie',
  'rain-shell-jacket',
  'desk-lamp-led',
  'cast-iron-skillet',
  'yoga-mat-pro',
  'bluetooth-speaker',
  'hiking-pole-pair',
  'linen-shirt',
  'chef-knife-8in',
  'pour-over-kettle',
  'travel-adapter',
  'down-vest',
  'leather-wallet',
  'sunglasses-polar',
  'bike-light-set',
  'notebook-a5',
  'fountain-pen',
  'ceramic-mug',
  'tea-sampler',
  'wireless-mouse',
  'usb-c-hub',
  'standing-desk',
  'office-chair',
  'cotton-hoodie',
  'running-shorts',
  'sports-bra',
  'sun-hat',
];
const CATEGORIES = [
  'men',
  'women',
  'kids',
  'kitchen',
  'outdoor',
  'office',
  'electronics',
  'sale',
  'new',
  'gifts',
];
const SEARCH_TERMS = [
  'jacket',
  'socks',
  'coffee',
  'lamp',
  'gift+card',
  'running+shoes',
  'mug',
  'usb',
  'sale',
  'wool',
  'waterproof',
  'desk',
  'bottle',
  'hat',
];

export type PathKind = 'page' | 'asset' | 'image' | 'api' | 'probe';

export interface PathEntry {
  path: string;
  query?: string;
  kind: PathKind;
}

/** Request targets ranked by popularity: assets and the home page first, a long tail after. */
function buildPaths(): PathEntry[] {
  const head: PathEntry[] = [
    { path: '/', kind: 'page' },
    { path: '/static/js/app.3f9c2b1e.js', kind: 'asset' },
    { path: '/static/css/main.8d41a0c7.css', kind: 'asset' },
    { path: '/api/v1/cart', kind: 'api' },
    { path: '/favicon.ico', kind: 'image' },
    { path: '/api/v1/session', kind: 'api' },
    { path: '/static/img/logo.svg', kind: 'image' },
    { path: '/search', query: 'q=jacket', kind: 'page' },
    { path: '/api/v1/recommendations', kind: 'api' },
    { path: '/robots.txt', kind: 'probe' },
  ];
  const tail: PathEntry[] = [];
  // A fixed shuffle (not the run's seed) so the popularity ranking is the same in every run.
  const rng = new Prng('sluice-paths');
  for (const c of CATEGORIES) tail.push({ path: `/category/${c}`, kind: 'page' });
  for (const p of PRODUCTS) {
    tail.push({ path: `/products/${p}`, kind: 'page' });
    tail.push({ path: `/static/img/products/${p}.jpg`, kind: 'image' });
    tail.push({ path: `/api/v1/products/${p}/reviews`, query: 'page=1', kind: 'api' });
  }
  for (const t of SEARCH_TERMS) tail.push({ path: '/search', query: `q=${t}`, kind: 'page' });
  for (const c of CATEGORIES) {
    tail.push({
      path: `/category/${c}`,
      query: `sort=price&page=${rng.between(2, 9)}`,
      kind: 'page',
    });
  }
  tail.push(
    { path: '/account', kind: 'page' },
    { path: '/account/orders', kind: 'page' },
    { path: '/checkout', kind: 'page' },
    { path: '/help/shipping', kind: 'page' },
    { path: '/help/returns', kind: 'page' },
    { path: '/sitemap.xml', kind: 'probe' },
    { path: '/wp-login.php', kind: 'probe' },
    { path: '/.env', kind: 'probe' },
    { path: '/healthz', kind: 'probe' },
  );
  for (let i = tail.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [tail[i], tail[j]] = [tail[j], tail[i]];
  }
  // Built by concatenation, these would be copied char by char through string trees per line.
  return head.concat(tail).map((e) => ({
    ...e,
    path: flatString(e.path),
    ...(e.query === undefined ? {} : { query: flatString(e.query) }),
  }));
}

export const PATHS: Weighted<PathEntry> = zipf(buildPaths(), 1.15);
export const PRODUCT_SLUGS: readonly string[] = PRODUCTS;

export const METHODS = new Weighted<string>([
  ['GET', 86],
  ['POST', 9],
  ['PUT', 2],
  ['DELETE', 1],
  ['HEAD', 1.5],
  ['OPTIONS', 0.5],
]);

export const STATUSES = new Weighted<number>([
  [200, 880],
  [304, 45],
  [301, 10],
  [302, 15],
  [201, 8],
  [204, 6],
  [404, 25],
  [400, 3],
  [401, 3],
  [403, 2],
  [500, 2],
  [502, 0.6],
  [503, 0.4],
]);

export const PROTOCOLS = new Weighted<string>([
  ['HTTP/1.1', 70],
  ['HTTP/2.0', 28],
  ['HTTP/1.0', 2],
]);

export const USER_AGENTS = new Weighted<string>([
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
      'Chrome/124.0.0.0 Safari/537.36',
    30,
  ],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 ' +
      '(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    18,
  ],
  [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 ' +
      '(KHTML, like Gecko) Version/17.3 Safari/605.1.15',
    10,
  ],
  [
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) ' +
      'Chrome/124.0.6367.82 Mobile Safari/537.36',
    12,
  ],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0', 7],
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
      'Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67',
    6,
  ],
  ['Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0', 2],
  ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 4],
  ['Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', 2],
  ['curl/8.5.0', 2],
  ['python-requests/2.31.0', 1.5],
  ['Go-http-client/1.1', 1],
  ['kube-probe/1.29', 1],
  ['Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)', 1.5],
]);

/** Referrers: none, a search engine, a page of the same site, or a social link. */
export const EXTERNAL_REFERRERS = new Weighted<string>([
  ['https://www.google.com/', 50],
  ['https://www.bing.com/', 8],
  ['https://duckduckgo.com/', 5],
  ['https://t.co/Xk3s9LpQ2a', 3],
  ['https://www.facebook.com/', 4],
  ['https://news.example.org/best-gear-2024', 2],
]);

export const HOSTNAMES = ['web-01', 'web-02', 'web-03', 'web-04', 'api-01', 'api-02'];

export const STAFF_USERS = [
  'frontdesk1',
  'frontdesk2',
  'rn.okafor',
  'rn.lindqvist',
  'dr.patel',
  'dr.moreau',
  'lab.tech3',
  'pharm.chen',
  'billing.ruiz',
];

export const FIRST_NAMES = [
  'James',
  'Mary',
  'Robert',
  'Patricia',
  'John',
  'Jennifer',
  'Michael',
  'Linda',
  'David',
  'Elizabeth',
  'William',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Charles',
  'Karen',
  'Daniel',
  'Nancy',
  'Matthew',
  'Lisa',
  'Anthony',
  'Betty',
  'Mark',
  'Sandra',
  'Aisha',
  'Wei',
  'Priya',
  'Mateo',
  'Sofia',
  'Kenji',
  'Olga',
  'Tariq',
  'Amara',
  'Liam',
  'Noor',
  'José',
  'Zoë',
  'Chloé',
  'Søren',
  'Renée',
  'Jürgen',
  'Ana-Lucía',
  "D'Andre",
];

export const LAST_NAMES = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Clark',
  'Nguyen',
  'Kim',
  'Okonkwo',
  'Kowalski',
  'Haddad',
  'Ivanova',
  'Sato',
  'Fernández',
  'Müller',
  "O'Brien",
  'Van der Berg',
  'Nakamura-Reyes',
  'Øster',
];

export const STREETS = [
  'Oak Street',
  'Maple Avenue',
  'Cedar Lane',
  'Elm Street',
  'Pine Road',
  'Washington Blvd',
  'Lakeview Drive',
  'Hillcrest Court',
  'Sunset Boulevard',
  'Park Place',
  'Mill Road',
  'Willow Way',
  'Chestnut Street',
  '2nd Avenue',
  'Riverside Drive',
];

export const CITIES: ReadonlyArray<readonly [string, string, string]> = [
  ['Springfield', 'IL', '627'],
  ['Riverton', 'WY', '825'],
  ['Fairview', 'OR', '970'],
  ['Georgetown', 'TX', '786'],
  ['Madison', 'WI', '537'],
  ['Salem', 'MA', '019'],
  ['Franklin', 'TN', '370'],
  ['Clinton', 'IA', '527'],
  ['Greenville', 'SC', '296'],
  ['Ashland', 'KY', '411'],
];

export const EMAIL_DOMAINS = ['example.com', 'example.net', 'example.org', 'mail.example.com'];

export const AREA_CODES = ['217', '307', '503', '512', '608', '978', '615', '563', '864', '606'];

export const LAB_TESTS = [
  'CBC',
  'BMP',
  'CMP',
  'HbA1c',
  'Lipid panel',
  'TSH',
  'Urinalysis',
  'PT/INR',
  'Vitamin D',
];
export const MEDICATIONS = [
  'amoxicillin 500 mg',
  'lisinopril 10 mg',
  'metformin 500 mg',
  'atorvastatin 20 mg',
  'albuterol inhaler',
  'sertraline 50 mg',
  'omeprazole 20 mg',
  'ibuprofen 600 mg',
];
export const UPSTREAMS = ['10.0.3.11:8080', '10.0.3.12:8080', '10.0.3.13:8080'];
export const ERRORS = [
  'connection reset by peer',
  'upstream timed out',
  'deadline exceeded',
  'connection refused',
  'pool exhausted',
  'TLS handshake timeout',
];
