// n8n loads nodes and credentials from the paths listed under "n8n" in package.json;
// this entry point only exists so that `require('n8n-nodes-amazon-incentives')` resolves.
module.exports = {};
