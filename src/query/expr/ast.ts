// The syntax tree of a --where expression, as the parser builds it and the compiler reads it.

export type Literal =
  | { kind: 'number'; value: number; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'time'; value: number; text: string }
  | { kind: 'regex'; source: string; flags: string };

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | '~' | '!~';

export type Expr =
  | { kind: 'and'; left: Expr; right: Expr }
  | { kind: 'or'; left: Expr; right: Expr }
  | { kind: 'not'; operand: Expr }
  | { kind: 'compare'; path: string; op: CompareOp; value: Literal; pos: number; valuePos: number }
  | { kind: 'in'; path: string; values: Literal[]; pos: number }
  | { kind: 'exists'; path: string; pos: number };
