import { parseAllDocuments, LineCounter, Parser, Lexer, Composer } from 'yaml';
const N=+process.argv[2];
const roles=['member','worker','admin','member'];
let s='apiVersion: orgctl.dev/v1alpha1\nkind: Membership\nmetadata:\n  name: big\nspec:\n  organization: acme\n  role: member\n  members:\n';
for(let i=0;i<N;i++){ s+=`    - email: user${i}@acme.example\n      role: ${roles[i%4]}\n      firstName: First${i}\n      lastName: Last${i}\n`; }
const T=()=>Number(process.hrtime.bigint())/1e6;
let t=T(); let n=0; for (const tok of new Lexer().lex(s)) n++; console.log(N,'lex', T()-t, n);
t=T(); const cst=[...new Parser().parse(s)]; console.log('cst', T()-t);
t=T(); const docs=[...new Composer().compose(cst)]; console.log('compose', T()-t);
