import { type Command, num } from '../command';

export const diag: Command = {
  name: 'diag',
  summary: 'check the job runner: report progress N times (for tests and troubleshooting)',
  usage: '[--steps N] [--delay MS]',
  help: '  --steps N     progress events to send (default 3)\n  --delay MS    pause between events (default 100)',
  options: { steps: { type: 'string' }, delay: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  inputs: () => [],
  request: (v) => ({
    kind: 'diag',
    params: {
      steps: num(v, 'steps', (n) => Number.isInteger(n) && n >= 0, 'a whole number') ?? 3,
      delayMs: num(v, 'delay', (n) => n >= 0, 'a non-negative number') ?? 100,
    },
  }),
  print: (r, out) => out(JSON.stringify(r)),
};
