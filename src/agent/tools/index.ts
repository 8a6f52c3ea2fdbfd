// The agent's tools, registered in one list: the order is the order the model sees them in.
import { deleteFileTool } from './delete-file.js';
import { describeResourceSchemaTool } from './describe-resource-schema.js';
import { estimateCostTool } from './estimate-cost.js';
import { finishTool } from './finish.js';
import { listFilesTool } from './list-files.js';
import { readFileTool } from './read-file.js';
import { runChecksTool } from './run-checks.js';
import { searchTool } from './search.js';
import { showStateTool } from './show-state.js';
import type { AgentTool } from './types.js';
import { writeFileTool } from './write-file.js';

export const AGENT_TOOLS: readonly AgentTool[] = [
  listFilesTool,
  readFileTool,
  searchTool,
  describeResourceSchemaTool,
  showStateTool,
  writeFileTool,
  deleteFileTool,
  runChecksTool,
  estimateCostTool,
  finishTool,
];

export function findTool(name: string): AgentTool | undefined {
  return AGENT_TOOLS.find((t) => t.name === name);
}
