// Filled by the boot issue; kept so the subpath export resolves.
export {};
