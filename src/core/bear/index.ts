// BEAR fine-tuning, TypeScript side: run configs, data checks, metrics parsing (the trainer is python/preflight_train).
export * from './runConfig';
export * from './dataCheck';
export * from './metrics';
export * from './prefill';
export * from './trainerProcess';
