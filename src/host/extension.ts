// Extension entry. Activation stays light: it registers commands and creates the worker client,
// but starts no process and loads no model until a command runs.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { WorkerClient } from '../worker/client';

let client: WorkerClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('QAT Lens', { log: true });
  client = new WorkerClient({
    workerPath: path.join(context.extensionPath, 'dist', 'worker.js'),
    onStderr: (t) => log.append(t),
  });
  const worker = client;
  context.subscriptions.push(log, { dispose: () => worker.dispose() });

  context.subscriptions.push(
    vscode.commands.registerCommand('qatLens.analyze', async (uri?: vscode.Uri, uris?: vscode.Uri[]) => {
      const files = (uris && uris.length ? uris : uri ? [uri] : await pick()).map((u) => u.fsPath);
      if (!files.length) return;
      const cfg = vscode.workspace.getConfiguration('qatLens');
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'QAT Lens: analyzing', cancellable: true },
        async (progress, token) => {
          const ac = new AbortController();
          token.onCancellationRequested(() => ac.abort());
          try {
            const result = await worker.run(
              { kind: 'analyze', params: { files, delta: cfg.get<number>('delta'), bits: cfg.get<number | null>('bits') ?? undefined } },
              { signal: ac.signal, onProgress: (p) => progress.report({ message: p.message }), onLog: (l, m) => log.appendLine(`[${l}] ${m}`) },
            );
            log.appendLine(JSON.stringify(result).slice(0, 2000));
          } catch (err) {
            log.appendLine(String(err));
            void vscode.window.showErrorMessage(`QAT Lens: ${err instanceof Error ? err.message : String(err)}`);
          }
        },
      );
    }),
  );
}

async function pick(): Promise<vscode.Uri[]> {
  const r = await vscode.window.showOpenDialog({
    canSelectMany: true,
    filters: { Checkpoints: ['onnx', 'pt', 'pth', 'ckpt', 'safetensors'] },
  });
  return r ?? [];
}

export function deactivate(): void {
  client?.dispose();
}
