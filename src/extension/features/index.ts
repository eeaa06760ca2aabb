// Every feature of the extension, in activation order. Each lives in its own folder under src/extension/.
import { Feature } from './feature';
import { notBuiltFeature } from './notBuilt';

export const features: Feature[] = [
  notBuiltFeature('validation', { 'preflight.validateFile': 'Validate File' }),
  notBuiltFeature('annotation', { 'preflight.analyzeAnnotations': 'Analyze Annotation Errors' }),
  notBuiltFeature('models', { 'preflight.buildModel': 'Build Model' }),
  notBuiltFeature('mdf', { 'preflight.forecastBehaviour': 'Forecast Behaviour (MDF)' }),
  notBuiltFeature('bear', { 'preflight.launchBear': 'Launch BEAR Fine-tuning' }),
  notBuiltFeature('reports', { 'preflight.showReport': 'Show Report' }),
];
