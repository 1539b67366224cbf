// MAC addresses as DHCP tables show them: "02:00:00:00:00:01".
export function formatMac(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function parseMac(s: string): Uint8Array | null {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(s);
  return m === null ? null : Uint8Array.from(m.slice(1, 7), (h) => parseInt(h, 16));
}
