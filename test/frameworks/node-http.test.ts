import { createServer } from 'node:http';
import { listen, telemetryRoutes } from '../../examples/frameworks/node-http.js';
import { describeRecipe } from './recipe.js';

describeRecipe('node:http', (handlers) => listen(createServer(telemetryRoutes(handlers))));
