// Minimal ambient types for the @mercuryworkshop/wisp-js package (it ships none); tests only.
declare module '@mercuryworkshop/wisp-js/server' {
  export const server: any;
  export const logging: any;
}
declare module '@mercuryworkshop/wisp-js/client' {
  export const client: any;
}
