// The public entry point: `import { … } from 'synack'`.
export {};
