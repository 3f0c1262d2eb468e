// The fixture kinds `mmfd check-fixture` knows, each rebuilt by its own file in this folder.
import { registerKind } from './check.js';

registerKind('checkpoint_pth', () => import('./checkpoint_pth.js'));
