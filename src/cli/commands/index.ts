import type { Command } from '../command';
import { analyze } from './analyze';
import { compare } from './compare';
import { correct } from './correct';
import { diag } from './diag';
import { evalCommand } from './eval';
import { example } from './example';
import { map } from './map';
import { precision } from './precision';
import { probe } from './probe';

/** Subcommands in the order --help lists them. */
export const commands: Command[] = [analyze, evalCommand, map, probe, correct, compare, precision, example, diag];
