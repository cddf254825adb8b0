import { createContext, useContext } from 'react';
import type { ConsoleApi } from '../api.js';

export const ApiContext = createContext<ConsoleApi | undefined>(undefined);

export function useApi(): ConsoleApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error('The console needs a ConsoleApi; render it through runConsole or <App api={…}/>.');
  return api;
}
