// qat-lens: the command-line face of the engine. Parses flags strictly, checks input files, then
// runs the job in-process through the same runJob the background worker uses.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CancelledError, QatLensError, firstLine } from '../core/errors';
import { runJob } from '../core/jobs';
import type { JobContext } from '../core/context';
import { type Command, UsageError } from './command';
import { commands } from './commands';

const VERSION = '0.1.0';

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'qat-lens — find, probe and correct oscillating layers of quantization-aware-trained detectors',
    '',
    'Usage: qat-lens <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "qat-lens <command> --help" for a command\'s options.',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [`Usage: qat-lens ${c.name} ${c.usage}`, '', c.summary, '', 'Options:', c.help, '  -h, --help     show this help'].join('\n');
}

/** Progress on stderr: one rewritten line on a terminal, throttled lines otherwise. */
function cliContext(signal: AbortSignal): JobContext {
  const tty = process.stderr.isTTY;
  let last = 0;
  return {
    signal,
    progress: (p) => {
      const now = Date.now();
      const done = p.fraction !== undefined && p.fraction >= 1;
      if (!tty && !done && now - last < 1000) return;
      last = now;
      const pct = p.fraction !== undefined ? `${(p.fraction * 100).toFixed(0).padStart(3)}% ` : '';
      if (tty) process.stderr.write(`\r\x1b[2K${pct}${p.message}`);
      else process.stderr.write(`${pct}${p.message}\n`);
    },
    log: (level, message) => {
      if (tty) process.stderr.write('\r\x1b[2K');
      process.stderr.write(`${level === 'info' ? '' : `${level}: `}${message}\n`);
    },
  };
}

/** Every failure is one line (no stack trace); QAT_LENS_DEBUG=1 adds the stack of unexpected ones. */
function oneLineError(err: unknown): string {
  if (err instanceof QatLensError) return err.message.replace(/\s*\r?\n\s*/g, ' ').trim();
  const debug = process.env.QAT_LENS_DEBUG && err instanceof Error ? `\n${err.stack}` : '';
  return `internal error: ${firstLine(err instanceof Error ? `${err.name}: ${err.message}` : String(err))}${debug}`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(mainHelp() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`qat-lens: unknown command "${name}"\n\n${mainHelp()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(command) + '\n');
    return 0;
  }

  let request;
  try {
    const { values, positionals } = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    if (positionals.length < command.positionals.min) throw new UsageError(`expected ${command.positionals.min === 1 ? 'a file argument' : `at least ${command.positionals.min} arguments`}`);
    if (positionals.length > command.positionals.max) throw new UsageError(`unexpected argument "${positionals[command.positionals.max]}"`);
    request = command.request(values, positionals);
    for (const f of command.inputs(values, positionals)) {
      if (f !== undefined && !existsSync(f)) throw new UsageError(`no such file or folder: ${f}`);
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`qat-lens ${name}: ${msg}\nUsage: qat-lens ${name} ${command.usage}\n`);
    return 2;
  }

  const ac = new AbortController();
  const onSigint = (): void => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write('\ncancelling (Ctrl-C again to stop at once)…\n');
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await runJob(request, cliContext(ac.signal));
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
    command.print(result, (line) => process.stdout.write(line + '\n'));
    return 0;
  } catch (err) {
    if (err instanceof CancelledError) {
      process.stderr.write(`qat-lens ${name}: cancelled\n`);
      return 130;
    }
    process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}qat-lens ${name}: ${oneLineError(err)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`qat-lens: ${oneLineError(err)}\n`);
    process.exitCode = 1;
  },
);
