// VS Code workspace trust: the policy (no vscode import, so tests run it). Analysing a file the user opened works in an untrusted (Restricted Mode)
// workspace: the readers never run code. Reading a data set's paths (a data.yaml points anywhere on
// disk) and running QC (it trains and writes a model) ask first. package.json declares this as
// capabilities.untrustedWorkspaces 'limited', with the data set settings restricted.

/** What a command does that may need trust. */
export type TrustedAction = 'analyze' | 'read-dataset' | 'run-qc';

/** Whether an action needs a trusted workspace: only those that follow paths or write models. */
export function needsTrust(action: TrustedAction): boolean {
  return action !== 'analyze';
}

export interface TrustApi {
  isTrusted(): boolean;
  /** Asks the user; resolves true to open the trust editor. */
  ask(message: string): Promise<boolean>;
  openTrustEditor(): Promise<void>;
}

const WHY: Record<Exclude<TrustedAction, 'analyze'>, string> = {
  'read-dataset': 'reads the image and label paths a data set file in this folder points to',
  'run-qc': 'runs Quantization Correction: it reads the data set this folder points to and writes a corrected model',
};

/**
 * True when `action` may go ahead: the workspace is trusted, or the action needs no trust.
 * Otherwise asks (once per call) and offers the trust editor; the user runs the command again.
 */
export async function ensureTrusted(action: TrustedAction, what: string, api: TrustApi): Promise<boolean> {
  if (!needsTrust(action) || api.isTrusted()) return true;
  const manage = await api.ask(`${what} ${WHY[action as Exclude<TrustedAction, 'analyze'>]}. This folder is not trusted (Restricted Mode): trust it first, then run the command again.`);
  if (manage) await api.openTrustEditor();
  return false;
}
