import type { HostContext } from '../context';

export function showPanel(ctx: HostContext): void {
  ctx.panel.show();
}
