// The fuzz worker: a child process that runs cases in-process (fast) for the harness, which kills
// and restarts it when a case hangs or the process dies.
import { runCase } from './check';
import type { CaseSpec } from './targets';

process.on('message', (m: { dir: string; spec: CaseSpec; id: number }) => {
  void runCase(m.dir, m.spec).then(
    (outcome) => process.send!({ id: m.id, outcome, maxRssKb: process.resourceUsage().maxRSS }),
    (err: unknown) => process.send!({ id: m.id, outcome: { ok: false, violations: [`harness error: ${String(err)}`], ms: 0 }, maxRssKb: process.resourceUsage().maxRSS }),
  );
});
process.send!({ ready: true });
