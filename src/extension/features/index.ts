// Every feature of the extension, in activation order. Each lives in its own folder under src/extension/.
import { Feature } from './feature';
import { notBuiltFeature } from './notBuilt';
import { modelsFeature } from '../models/modelsFeature';
import { reportsFeature } from '../reports/showReportCommand';

export const features: Feature[] = [
  notBuiltFeature('validation', { 'preflight.validateFile': 'Validate File' }),
  notBuiltFeature('annotation', { 'preflight.analyzeAnnotations': 'Analyze Annotation Errors' }),
  modelsFeature(),
  notBuiltFeature('mdf', { 'preflight.forecastBehaviour': 'Forecast Behaviour (MDF)' }),
  notBuiltFeature('bear', { 'preflight.launchBear': 'Launch BEAR Fine-tuning' }, ['preflight.jobs']),
  reportsFeature,
];
