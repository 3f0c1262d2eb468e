export { PDCBlock } from './block.js';
export { CDCM } from './cdcm.js';
export { CSAM } from './csam.js';
export { PdcConv2d, type PdcConv2dOptions, type PdcType, pdcConfig, pdcKernel } from './pdc.js';
export { PiDiNet, type PiDiNetOptions } from './pidinet.js';
