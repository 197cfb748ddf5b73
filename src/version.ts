// The package version, kept here so the CLI needs no file lookup at start; a unit test
// checks that it matches package.json.
export const VERSION = '0.1.0';
