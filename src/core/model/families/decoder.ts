// The skeleton every decoder family shares around its own blocks: what each layer hands to the
// outputs (its key/value cache, its residual output steered and then recorded), and the end of the
// graph (final norm, LM head, outputs). A family file writes only its layers' blocks.
import { Checkpoint, lmHeadName } from '../checkpoint';
import { addSteering, DecoderInputs, declareOutputs, gatherLast, GraphBuilder, meanOverTokens, rmsNorm, SequenceInfo } from '../onnx/graph';
import { Weights } from '../onnx/weights';

/** What the layers collect for the graph's outputs. */
export class DecoderOutputs {
  readonly hiddenLast: string[] = [];
  readonly hiddenMean: string[] = [];
  readonly presentKeys: string[] = [];
  readonly presentValues: string[] = [];

  constructor(
    private readonly g: GraphBuilder,
    private readonly inputs: DecoderInputs,
    private readonly seq: SequenceInfo,
  ) {}

  /** A layer's key/value cache [B,K,T,D] (past and new), for present_key/value.<layer>. */
  cache(keys: string, values: string): void {
    this.presentKeys.push(keys);
    this.presentValues.push(values);
  }

  /** The MDF injection point: steers layer `l`'s residual output h [B,S,E], records it at the last
   *  real token and averaged over tokens, and returns the steered h. */
  endLayer(h: string, l: number, hidden: number): string {
    const steered = addSteering(this.g, h, this.inputs, this.seq, l);
    this.hiddenLast.push(gatherLast(this.g, steered, this.seq, hidden)); // [B,1,E]
    this.hiddenMean.push(meanOverTokens(this.g, steered, this.seq)); // [B,1,E]
    return steered;
  }

  /** Final norm, the LM head (the embedding when tied) and every output. */
  async finish(ckpt: Checkpoint, w: Weights, h: string, finalNorm: string, embed: string): Promise<void> {
    const c = ckpt.config;
    const normed = rmsNorm(this.g, h, finalNorm, c.rmsNormEps); // [B,S,E]
    const head = lmHeadName(ckpt);
    const lmHead = head === 'model.embed_tokens.weight' ? embed : await w.raw('lm_head', head); // [V,E]
    declareOutputs(this.g, {
      inputs: this.inputs,
      seq: this.seq,
      normed,
      lmHead,
      vocab: c.vocabSize,
      hidden: c.hiddenSize,
      numKvHeads: c.numKvHeads,
      headDim: c.headDim,
      hiddenLast: this.hiddenLast,
      hiddenMean: this.hiddenMean,
      presentKeys: this.presentKeys,
      presentValues: this.presentValues,
    });
  }
}
