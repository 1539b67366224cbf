// A node:test reporter that prints only the closing "N passed, N failed" line
// (plus skipped/todo counts when there are any).
export default async function* summary(source) {
  let passed = 0, failed = 0, skipped = 0, todo = 0;
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    // Count leaf tests only: suites report with details.type === 'suite'.
    if (ev.data.details?.type === 'suite') {
      if (ev.type === 'test:fail' && ev.data.details?.error?.failureType !== 'subtestsFailed') failed++;
      continue;
    }
    if (ev.data.skip) skipped++;
    else if (ev.data.todo) todo++;
    else if (ev.type === 'test:pass') passed++;
    else failed++;
  }
  let line = `${passed} passed, ${failed} failed`;
  if (skipped) line += `, ${skipped} skipped`;
  if (todo) line += `, ${todo} todo`;
  yield line + '\n';
}
