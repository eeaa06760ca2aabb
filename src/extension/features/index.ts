// Every feature of the extension, in activation order. Each lives in its own folder under src/extension/.
import { Feature } from './feature';
import { notBuiltFeature } from './notBuilt';
import { modelsFeature } from '../models/modelsFeature';
import { validationFeature } from '../validation/validationFeature';
import { reportsFeature } from '../reports/showReportCommand';
import { annotationFeature } from '../annotation/annotationFeature';

export const features: Feature[] = [
  validationFeature(),
  annotationFeature,
  modelsFeature(),
  notBuiltFeature('mdf', { 'preflight.forecastBehaviour': 'Forecast Behaviour (MDF)' }),
  notBuiltFeature('bear', { 'preflight.launchBear': 'Launch BEAR Fine-tuning' }, ['preflight.jobs']),
  reportsFeature,
];
