// Files the bundler embeds as text (`import x from "./f.c" with { type: "text" }`).
declare module "*.c" {
  const text: string;
  export default text;
}
