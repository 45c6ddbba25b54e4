// Neither package ships type declarations; these cover the parts src/themes uses.

declare module 'snowball-stemmers' {
  export interface Stemmer {
    stem(word: string): string;
  }
  export function newStemmer(algorithm: string): Stemmer;
  export function algorithms(): string[];
}

declare module 'stopword' {
  export const dan: readonly string[];
  export const swe: readonly string[];
  export const eng: readonly string[];
}
