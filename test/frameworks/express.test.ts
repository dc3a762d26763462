import { createServer } from 'node:http';
import { telemetryApp } from '../../examples/frameworks/express.js';
import { listen } from '../../examples/frameworks/node-http.js';
import { describeRecipe } from './recipe.js';

describeRecipe('Express 5', (handlers) => listen(createServer(telemetryApp(handlers))));

// compression() buffers what it compresses: the live streams must opt out (no-transform) and flush.
describeRecipe('Express 5 behind compression()', (handlers) => listen(createServer(telemetryApp(handlers, { compress: true }))), {
  compressed: true,
});
