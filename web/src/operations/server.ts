import { graphql } from '../gql';

export const ServerInfoQuery = graphql(`
  query ServerInfo {
    serverInfo {
      version
      demo
      authEnabled
    }
    me {
      name
      role
    }
  }
`);
