// Workspace trust through the VS Code API; the policy is in trustPolicy.ts.
import * as vscode from 'vscode';
import { ensureTrusted as ensure, type TrustApi, type TrustedAction } from './trustPolicy';

const MANAGE = 'Manage Workspace Trust';

export const vscodeTrust: TrustApi = {
  isTrusted: () => vscode.workspace.isTrusted,
  ask: async (message) => (await vscode.window.showWarningMessage(message, { modal: true }, MANAGE)) === MANAGE,
  openTrustEditor: async () => {
    await vscode.commands.executeCommand('workbench.trust.manage');
  },
};

/** True when `action` may go ahead in this workspace; otherwise asks and returns false. */
export function ensureTrusted(action: TrustedAction, what: string): Promise<boolean> {
  return ensure(action, what, vscodeTrust);
}
