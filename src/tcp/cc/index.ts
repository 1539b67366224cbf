// Congestion controller registry: pick an algorithm by name (Linux: net.ipv4.tcp_congestion_control).

import { Cubic } from './cubic.js';
import { NewReno } from './newreno.js';
import type { CongestionControl } from './types.js';

export type { CcFactory, CongestionControl } from './types.js';
export { SSTHRESH_INITIAL, initialWindow } from './types.js';
export { NewReno, newReno } from './newreno.js';
export { Cubic, cubic } from './cubic.js';

export type CongestionControlName = 'newreno' | 'cubic';
/** Typed as string[] so `CONGESTION_CONTROLS.includes(userInput)` type-checks. */
export const CONGESTION_CONTROLS: readonly string[] = ['newreno', 'cubic'] satisfies CongestionControlName[];

/** Build a controller; throws TypeError (code ERR_INVALID_ARG_VALUE) for an unknown name. */
export function createCongestionControl(name: string, mss: number): CongestionControl {
  switch (name) {
    case 'newreno':
      return new NewReno(mss);
    case 'cubic':
      return new Cubic(mss);
    default: {
      const err = new TypeError(
        `The argument 'congestionControl' must be one of: ${CONGESTION_CONTROLS.map((n) => `'${n}'`).join(', ')}. Received '${String(name)}'`,
      ) as TypeError & { code: string };
      err.code = 'ERR_INVALID_ARG_VALUE';
      throw err;
    }
  }
}
