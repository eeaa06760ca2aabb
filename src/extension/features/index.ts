// Every feature of the extension, in activation order. Each lives in its own folder under src/extension/.
import { Feature } from './feature';
import { modelsFeature } from '../models/modelsFeature';
import { validationFeature } from '../validation/validationFeature';
import { reportsFeature } from '../reports/showReportCommand';
import { annotationFeature } from '../annotation/annotationFeature';
import { mdfFeature } from '../mdf/mdfFeature';
import { bearFeature } from '../bear/bearFeature';

export const features: Feature[] = [validationFeature(), annotationFeature(), modelsFeature(), mdfFeature(), bearFeature(), reportsFeature()];
