// parseIpv4Address (a character loop) accepts exactly what the strict dotted-quad regular
// expression accepts, with the same value: random strings over digits and dots (and a few
// other characters), every octet 0..999 in every position, and hand-picked edge cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpv4Address, parseIpv4AddressRegex } from '../../src/wire/ipv4addr.js';
import { mulberry32 } from './prng.js';

test('parseIpv4Address equals the regular-expression reference on edge cases', () => {
  const cases = [
    '0.0.0.0', '255.255.255.255', '198.18.0.2', '1.2.3.4', '10.0.0.1', '256.0.0.1', '1.2.3.256', '01.2.3.4', '1.2.3.04',
    '1.2.3.0', '1.2.3.00', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.-4',
    '1.2.3.4a', '١.2.3.4', '1.2.3.4\n', '999.1.1.1', '100.200.250.199', '0.00.0.0', '1000.1.1.1', '1.2.3.4/24', '+1.2.3.4',
  ];
  for (const s of cases) assert.equal(parseIpv4Address(s), parseIpv4AddressRegex(s), JSON.stringify(s));
  assert.equal(parseIpv4Address('198.18.0.2'), 0xc6120002);
  assert.equal(parseIpv4Address('255.255.255.255'), 0xffffffff);
});

test('parseIpv4Address equals the reference for every octet value in every position', () => {
  for (let pos = 0; pos < 4; pos++) {
    for (let v = 0; v < 1000; v++) {
      for (const form of [String(v), String(v).padStart(2, '0'), String(v).padStart(3, '0')]) {
        const parts = ['7', '8', '9', '10'];
        parts[pos] = form;
        const s = parts.join('.');
        assert.equal(parseIpv4Address(s), parseIpv4AddressRegex(s), s);
      }
    }
  }
});

test('parseIpv4Address equals the reference on random strings', () => {
  const rnd = mulberry32(16);
  const odd = 'x -+/:';
  let valid = 0;
  for (let i = 0; i < 200_000; i++) {
    // 2..5 groups of 0..4 digits joined by dots, sometimes with a stray character.
    const groups: string[] = [];
    const ng = 2 + Math.floor(rnd() * 4);
    for (let g = 0; g < ng; g++) {
      let d = '';
      const nd = Math.floor(rnd() * 5);
      for (let j = 0; j < nd; j++) d += String(Math.floor(rnd() * 10));
      groups.push(d);
    }
    let s = groups.join('.');
    if (rnd() < 0.1) { const at = Math.floor(rnd() * (s.length + 1)); s = s.slice(0, at) + odd[Math.floor(rnd() * odd.length)] + s.slice(at); }
    const want = parseIpv4AddressRegex(s);
    if (want !== null) valid++;
    assert.equal(parseIpv4Address(s), want, JSON.stringify(s));
  }
  assert.ok(valid > 1000, `only ${valid} valid addresses generated`);
});
