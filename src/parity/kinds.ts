// The fixture kinds `mmfd check-fixture` knows, each rebuilt by its own file in this folder.
import { registerKind } from './check.js';

registerKind('checkpoint_pth', () => import('./checkpoint_pth.js'));
registerKind('plip_vision', () => import('./plip_vision.js'));
registerKind('pidinet', () => import('./pidinet.js'));
registerKind('fusion', () => import('./fusion.js'));
registerKind('medsam_encoder', () => import('./medsam_encoder.js'));
registerKind('ckpt_loading', () => import('./ckpt_loading.js'));
registerKind('student_full', () => import('./student_full.js'), { anyDevice: true });
registerKind('teacher_small', () => import('./teacher_small.js'), { anyDevice: true });
registerKind('labels', () => import('./labels.js'));
registerKind('metrics', () => import('./metrics.js'));
