// The "QAT Lens" output channel: one line per job event, with time stamps from the LogOutputChannel.
import * as vscode from 'vscode';

export type Log = vscode.LogOutputChannel;

export function createLog(): Log {
  return vscode.window.createOutputChannel('QAT Lens', { log: true });
}

/** Error notification with a "Show Log" action that opens the output channel. */
export async function showError(log: Log, message: string): Promise<void> {
  const pick = await vscode.window.showErrorMessage(`QAT Lens: ${message}`, 'Show Log');
  if (pick === 'Show Log') log.show(true);
}
