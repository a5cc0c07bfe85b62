// placeholder: filled in step 4
export {};
