// Error decomposition of Xu et al., "Enhancing LLM-Based Data Annotation with Error Decomposition"
// (LAK '26, arXiv 2601.11920), exactly as the authors' calculate_error_decomposition.py:
//   t_task = H_t / (M_t + H_t) · M_t,   t_model = M_t − t_task,   t ∈ {boundary (AER), conceptual (CRI)}
// with M_t the LLM-vs-gold rate and H_t the pooled human-coders-vs-gold rate of error type t.
// The five shares M_ACC + AER_task + CRI_task + AER_model + CRI_model sum to 1. Where
// M_t + H_t = 0 there is no error of that type and both parts are 0 (the authors add 1e-10 to
// the denominator for the same effect).

/** The part of an LLM error rate m attributed to the task, given the human rate h of that type. */
export function taskPart(m: number, h: number): number {
  const total = m + h;
  return total > 0 ? (h / total) * m : 0;
}

/** [correct, boundaryTask, conceptualTask, boundaryModel, conceptualModel] into `out`. */
export function decomposeInto(
  mAcc: number,
  mBoundary: number,
  mConceptual: number,
  hBoundary: number,
  hConceptual: number,
  out: Float64Array,
  offset = 0,
): void {
  const boundaryTask = taskPart(mBoundary, hBoundary);
  const conceptualTask = taskPart(mConceptual, hConceptual);
  out[offset] = mAcc;
  out[offset + 1] = boundaryTask;
  out[offset + 2] = conceptualTask;
  out[offset + 3] = mBoundary - boundaryTask;
  out[offset + 4] = mConceptual - conceptualTask;
}

export function decompose(mAcc: number, mBoundary: number, mConceptual: number, hBoundary: number, hConceptual: number): number[] {
  const out = new Float64Array(5);
  decomposeInto(mAcc, mBoundary, mConceptual, hBoundary, hConceptual, out);
  return Array.from(out);
}

/** H_t / (M_t + H_t): the fraction of type-t LLM errors that the task itself explains (NaN when M_t + H_t = 0). */
export function taskFraction(m: number, h: number): number {
  return m + h > 0 ? h / (m + h) : NaN;
}
