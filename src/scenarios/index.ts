// The textbook scenarios, in the order of SPEC "The textbook scenarios".
import type { Scenario } from './types.js';
import { handshake, simultaneousOpen, oldDuplicateSyn, connectRefused } from './handshake.js';
import { synLost, synackLost, finalAckLost, connectTimeout } from './handshake-loss.js';
import { dataAndClose, halfClose, closeFinAckCombined, simultaneousClose, rstAbort } from './close.js';
import { lastAckLost, timeWait2msl, lastAckRetries, finWait2Timeout } from './close-timers.js';
import { keepaliveDeadPeer, synFlood, timeWaitReuse } from './robustness.js';
import { zeroWindow, lossRecovery, slowStart } from './data.js';
import { serverRestart, keepaliveRebootedPeer, timeWaitPileup } from './servers.js';
import { congestionAvoidance, maxOrphans } from './limits.js';
import { WHAT_IFS } from './whatif.js';

export type { Scenario, ScenarioResult, ScenarioCheck, Text, Lang } from './types.js';

export const SCENARIOS: Scenario[] = [
  handshake, dataAndClose, halfClose, closeFinAckCombined, simultaneousOpen, simultaneousClose,
  synLost, synackLost, finalAckLost, oldDuplicateSyn, connectRefused, connectTimeout,
  lastAckLost, timeWait2msl, lastAckRetries, finWait2Timeout, keepaliveDeadPeer, rstAbort, synFlood, timeWaitReuse,
  zeroWindow, lossRecovery, slowStart,
  serverRestart, timeWaitPileup, keepaliveRebootedPeer, maxOrphans, congestionAvoidance,
];

/** Counterfactual runs (NOT TCP) for the classic interview questions. */
export { WHAT_IFS } from './whatif.js';

/** A scenario or a what-if by name. */
export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name) ?? WHAT_IFS.find((s) => s.name === name);
}

export { runScenario, addDrop, parseSysctl, ordinals, LAB_SYSCTLS } from './run.js';
export type { RunSetup, ScenarioRun, TcbSnapshot, HostSnapshot, LabSysctl } from './run.js';
