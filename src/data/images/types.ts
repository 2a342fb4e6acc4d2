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

/** A whole image-classification dataset before any split or preprocessing. */
export interface RawDataset {
  readonly name: string;
  readonly train: RawSplit;
  readonly test: RawSplit;
  readonly exampleShape: readonly number[];
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly source: DataSource;
}
