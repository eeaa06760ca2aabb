// Moved to src/shared/protocol/mdf.ts; this re-export goes once every importer uses the shared path.
export * from '../../shared/protocol/mdf';
