import { graphql } from '../gql';

export const TokensQuery = graphql(`
  query Tokens {
    tokens {
      id
      name
      prefix
      role
      scope {
        user
        group
      }
      createdAt
      lastUsedAt
      revokedAt
    }
  }
`);

export const CreateTokenMutation = graphql(`
  mutation CreateToken($name: String!, $role: Role!, $scope: TokenScopeInput) {
    createToken(name: $name, role: $role, scope: $scope) {
      token
      apiToken {
        id
        name
        role
      }
    }
  }
`);

export const RevokeTokenMutation = graphql(`
  mutation RevokeToken($id: ID!) {
    revokeToken(id: $id) {
      id
      revokedAt
    }
  }
`);
