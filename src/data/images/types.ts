/** Examples as stored: pixel bytes (count x example size) and one label byte each. */
export interface RawSplit {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

/** Where the data came from, for run.json: nobody should mistake the embedded digits for full MNIST. */
export interface DataSource {
  readonly kind: 'path' | 'files' | 'cache' | 'system' | 'download' | 'embedded';
  readonly location: string;
  readonly files: readonly { name: string; sha256: string }[];
  readonly note?: string;
}

/** What every image set says of its examples: their shape and the classes they belong to. */
export interface ImageClasses {
  readonly exampleShape: readonly number[];
  readonly numClasses: number;
  readonly classNames: readonly string[];
}

/** A whole image-classification dataset before any split or preprocessing. */
export interface RawDataset extends ImageClasses {
  readonly name: string;
  readonly train: RawSplit;
  readonly test: RawSplit;
  readonly source: DataSource;
}
