import { describe, expect, it } from 'vitest';
import { stripHeaders } from '../../../src/data/text/corpus.js';
import { vectorize, type FittedText } from '../../../src/data/text/prepare.js';
import { documentFrequencies, fitVocabulary, indexOf, inverseFrequencies, tokenize } from '../../../src/data/text/tokens.js';

const words = { split: 'word', lowercase: true, ngrams: 1 } as const;

describe('tokenize', () => {
  it('splits words at anything but letters and digits, in any script, lowercased', () => {
    expect(tokenize("Don't  WIN $1,000 now!! Grüße, 東京", words)).toEqual(['don', 't', 'win', '1', '000', 'now', 'grüße', '東京']);
    expect(tokenize('Win NOW', { ...words, lowercase: false })).toEqual(['Win', 'NOW']);
    expect(tokenize('  ... ', words)).toEqual([]);
  });

  it('takes a pattern\'s matches as the tokens, in place of split', () => {
    expect(tokenize('Win $1,000 NOW at win.com', { ...words, pattern: '\\$[\\d,]+|[a-z]+(?:\\.[a-z]+)*' })).toEqual(['win', '$1,000', 'now', 'at', 'win.com']);
    expect(tokenize('a-b c', { ...words, pattern: '[^ ]+', ngrams: 2 })).toEqual(['a-b', 'c', 'a-b c']);
  });

  it('splits characters, and appends n-grams of 2..n', () => {
    expect(tokenize('Ab', { ...words, split: 'char' })).toEqual(['a', 'b']);
    expect(tokenize('a b c', { ...words, ngrams: 2 })).toEqual(['a', 'b', 'c', 'a b', 'b c']);
    expect(tokenize('abc', { split: 'char', lowercase: true, ngrams: 3 })).toEqual(['a', 'b', 'c', 'ab', 'bc', 'abc']);
  });
});

describe('the vocabulary', () => {
  const docs = [['b', 'a', 'c', 'a'], ['c', 'a', 'd'], ['b', 'e']];
  it('keeps the most frequent tokens, ties in code-point order, above minCount, at most maxTokens', () => {
    expect(fitVocabulary(docs, 10, 1)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(fitVocabulary(docs, 2, 1)).toEqual(['a', 'b']);
    expect(fitVocabulary(docs, 10, 2)).toEqual(['a', 'b', 'c']);
    expect(fitVocabulary(docs, 10, 4)).toEqual([]);
  });

  it('indexes from 2: 0 pads, 1 is out-of-vocabulary', () => {
    expect([...indexOf(['a', 'b'])]).toEqual([['a', 2], ['b', 3]]);
  });
});

describe('vectorize', () => {
  const base = { tokenize: words, vocabulary: ['the', 'cat', 'sat'] };
  it('pads and truncates sequences at either end', () => {
    const seq = (padding: 'pre' | 'post', truncation: 'pre' | 'post', text: string) => Array.from(vectorize({ ...base, sequence: { length: 4, padding, truncation } }, [text]).values);
    expect(seq('post', 'post', 'the cat')).toEqual([2, 3, 0, 0]);
    expect(seq('pre', 'post', 'the cat')).toEqual([0, 0, 2, 3]);
    expect(seq('post', 'post', 'the cat sat on the mat')).toEqual([2, 3, 4, 1]);
    expect(seq('post', 'pre', 'the cat sat on the mat')).toEqual([4, 1, 2, 1]);
    expect(seq('post', 'post', '')).toEqual([0, 0, 0, 0]);
  });

  it('counts words, marks their presence, or weighs them by tf-idf fitted on the training documents', () => {
    const bag = (mode: 'count' | 'binary' | 'tfidf', idf?: number[]) => Array.from(vectorize({ ...base, bagOfWords: { mode, ...(idf ? { idf } : {}) } } as FittedText, ['the cat the dog']).values);
    expect(bag('count')).toEqual([0, 1, 2, 1, 0]);
    expect(bag('binary')).toEqual([0, 1, 1, 1, 0]);
    const train = [['the', 'cat'], ['the', 'dog'], ['sat']];
    const idf = inverseFrequencies(documentFrequencies(train, indexOf(base.vocabulary), 5), train.length);
    // scikit-learn's smooth idf: ln((1 + 3) / (1 + df)) + 1; 'dog' is out-of-vocabulary (index 1, df 1).
    expect(idf.map((v) => v.toFixed(6))).toEqual([Math.log(4 / 1) + 1, Math.log(4 / 2) + 1, Math.log(4 / 3) + 1, Math.log(4 / 2) + 1, Math.log(4 / 2) + 1].map((v) => v.toFixed(6)));
    expect(bag('tfidf', idf)).toEqual([0, Math.fround(idf[1]!), Math.fround(2 * idf[2]!), Math.fround(idf[3]!), 0]);
  });
});

describe('stripHeaders', () => {
  it('keeps the body and the Subject line (unfolded), drops the other headers', () => {
    const mail = 'From: a@b.c\r\nSubject: Cheap\r\n  pills\r\nX-Spam: yes\r\n\r\nBuy now.\r\n\r\nBye';
    expect(stripHeaders(mail)).toBe('Cheap pills\nBuy now.\n\nBye');
    expect(stripHeaders('From: a@b.c\n\nHello')).toBe('Hello');
    expect(stripHeaders('no headers at all')).toBe('no headers at all');
  });
});
