// The signed-in API key, kept for this tab's session only (sessionStorage: gone when the tab
// closes, never shared with other tabs, never written to a cookie the browser would send).
const KEY = 'agentic-sdlc.apiKey';

export const storedKey = (): string | undefined => sessionStorage.getItem(KEY) ?? undefined;
export const storeKey = (key: string): void => sessionStorage.setItem(KEY, key);
export const forgetKey = (): void => sessionStorage.removeItem(KEY);
