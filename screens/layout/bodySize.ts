import { createContext, useContext } from 'react';

export interface BodySize {
  width: number;
  height: number;
}

/** The lines and columns between header and footer; screens lay themselves out within it. */
export const BodySizeContext = createContext<BodySize>({ width: 80, height: 18 });

export function useBodySize(): BodySize {
  return useContext(BodySizeContext);
}
